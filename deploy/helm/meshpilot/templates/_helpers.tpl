{{/* Names, labels and small shared pieces of the meshpilot chart. */}}

{{- define "meshpilot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name: fullnameOverride, else the release name when it already contains the chart
name, else "<release>-<chart>". Truncated to 63 characters (DNS label limit).
*/}}
{{- define "meshpilot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "meshpilot.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object of the release carries, whatever its component. */}}
{{- define "meshpilot.commonLabels" -}}
helm.sh/chart: {{ include "meshpilot.chart" . }}
app.kubernetes.io/name: {{ include "meshpilot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: meshpilot
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels of the operator's objects. */}}
{{- define "meshpilot.labels" -}}
{{ include "meshpilot.commonLabels" . }}
app.kubernetes.io/component: operator
{{- end }}

{{/* Labels that select the operator's pods (immutable in a Deployment: never add to them). */}}
{{- define "meshpilot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "meshpilot.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end }}

{{- define "meshpilot.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "meshpilot.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "meshpilot.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{- define "meshpilot.trainingImage" -}}
{{- printf "%s:%s" (.Values.training.image.repository | default .Values.image.repository) (.Values.training.image.tag | default .Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
Binds a ClusterRole to the operator: cluster-wide with a ClusterRoleBinding, or, when
watchNamespace is set, with a RoleBinding in that namespace only.
Call with (dict "root" $ "name" <binding and role name>).
*/}}
{{- define "meshpilot.bindClusterRole" -}}
{{- $root := .root }}
{{- if $root.Values.watchNamespace }}
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ .name }}
  namespace: {{ $root.Values.watchNamespace }}
  labels:
    {{- include "meshpilot.labels" $root | nindent 4 }}
{{- else }}
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: {{ .name }}
  labels:
    {{- include "meshpilot.labels" $root | nindent 4 }}
{{- end }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ .name }}
subjects:
  - kind: ServiceAccount
    name: {{ include "meshpilot.serviceAccountName" $root }}
    namespace: {{ $root.Release.Namespace }}
{{- end }}
