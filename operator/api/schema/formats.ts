// String formats a CRD schema may use, checked the way kube-openapi's strfmt registry checks
// them. The apiserver drops formats it does not support (int32, int64, float, double, ...)
// before validating, so those are never checked here either.

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const UUID3 = /^[0-9a-f]{8}-[0-9a-f]{4}-3[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const UUID5 = /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const HOSTNAME = /^([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*\.?$/;
const MAC = /^([0-9a-fA-F]{2}[:-]){5}[0-9a-fA-F]{2}$|^([0-9a-fA-F]{4}\.){2}[0-9a-fA-F]{4}$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;
const HEX_COLOR = /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const RGB_COLOR = /^rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function validDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= days;
}

function isDate(text: string): boolean {
  const m = DATE.exec(text);
  return m !== null && validDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** RFC 3339 date-time, with a time zone (strfmt's DateTime). */
export function isDateTime(text: string): boolean {
  const m = DATE_TIME.exec(text);
  if (!m) return false;
  if (!validDate(Number(m[1]), Number(m[2]), Number(m[3]))) return false;
  const [hour, minute, second] = [Number(m[4]), Number(m[5]), Number(m[6])];
  if (hour > 23 || minute > 59 || second > 60) return false;
  const zone = m[8] ?? 'Z';
  if (zone.length > 1) {
    const [zh, zm] = zone.slice(1).split(':').map(Number);
    if ((zh ?? 0) > 23 || (zm ?? 0) > 59) return false;
  }
  return true;
}

function isIPv6(text: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length < 2) return false;
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const parts = halves.flatMap(groups);
  let count = 0;
  for (const [i, part] of parts.entries()) {
    if (i === parts.length - 1 && part.includes('.')) {
      if (!IPV4.test(part)) return false;
      count += 2;
    } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) count += 1;
    else return false;
  }
  return halves.length === 2 ? count < 8 : count === 8;
}

function isCidr(text: string): boolean {
  const slash = text.lastIndexOf('/');
  if (slash < 0) return false;
  const address = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits)) return false;
  if (IPV4.test(address)) return Number(bits) <= 32;
  return isIPv6(address) && Number(bits) <= 128;
}

function isUri(text: string): boolean {
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(text)) return false;
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

const CHECKS: Record<string, (text: string) => boolean> = {
  date: isDate,
  datetime: isDateTime,
  byte: (t) => BASE64.test(t),
  uuid: (t) => UUID.test(t),
  uuid3: (t) => UUID3.test(t),
  uuid4: (t) => UUID4.test(t),
  uuid5: (t) => UUID5.test(t),
  hostname: (t) => t.length <= 255 && HOSTNAME.test(t),
  ipv4: (t) => IPV4.test(t),
  ipv6: isIPv6,
  cidr: isCidr,
  mac: (t) => MAC.test(t),
  email: (t) => EMAIL.test(t),
  uri: isUri,
  hexcolor: (t) => HEX_COLOR.test(t),
  rgbcolor: (t) => RGB_COLOR.test(t),
  password: () => true,
};

/**
 * The checker of a string format, or undefined when the format is not one the apiserver
 * checks (it then accepts any string). Formats are normalised as go-openapi does
 * ("date-time" and "datetime" are the same).
 */
export function formatChecker(format: string): ((text: string) => boolean) | undefined {
  return CHECKS[format.replaceAll('-', '')];
}
