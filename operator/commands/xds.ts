// `meshpilot xds nodes|dump`: what a running operator's xDS server holds, read from its admin
// endpoint (/debug/xds), like Envoy's config_dump.
import { z } from 'zod';
import { ConfigError } from '../base/errors.ts';
import { flag, parseFlags } from '../base/flags.ts';
import type { Command } from './command.ts';

const FLAGS = {
  node: flag(z.string().min(1).optional(), { arg: 'ID', help: "the node whose configuration 'dump' prints (required there)" }),
  'admin-addr': flag(z.string().min(1).default('127.0.0.1:8080'), { arg: 'ADDR', help: "the operator's --metrics-addr" }),
};

export const xdsCommand: Command = {
  name: 'xds',
  summary: 'inspect the xDS server of a running operator (nodes, config dump)',
  usage: 'meshpilot xds nodes [--admin-addr ADDR]\n       meshpilot xds dump --node ID [--admin-addr ADDR]',
  about:
    "Asks a running operator's admin endpoint which xDS nodes are connected ('nodes'), or what\none node currently holds and its ACK/NACK state per resource type, like Envoy's config_dump\n('dump'). Prints JSON.",
  flags: async () => FLAGS,
  readsEnvironment: true,
  async run(args, env) {
    const [sub, ...rest] = args;
    if (sub !== 'nodes' && sub !== 'dump') throw new ConfigError(`xds: expected "nodes" or "dump", got ${sub === undefined ? 'nothing' : `"${sub}"`}`);
    const o = parseFlags(FLAGS, rest, { env });
    if (sub === 'dump' && !o.node) throw new ConfigError('xds dump: --node is required');
    const admin = o['admin-addr'];
    const url = sub === 'nodes' ? `http://${admin}/debug/xds/nodes` : `http://${admin}/debug/xds/config_dump?node=${encodeURIComponent(o.node!)}`;
    let response: Response;
    try {
      response = await fetch(url);
    } catch (e) {
      console.error(`meshpilot xds: cannot reach the operator at ${admin} (--admin-addr): ${(e as Error).message}`);
      return 1;
    }
    const text = await response.text();
    if (response.status === 404 && sub === 'dump') {
      console.error(`meshpilot xds: node "${o.node}" is not connected to the operator at ${admin}`);
      return 1;
    }
    if (!response.ok) {
      console.error(`meshpilot xds: ${url} answered ${response.status}: ${text.trim()}`);
      return 1;
    }
    process.stdout.write(text);
    return 0;
  },
};
