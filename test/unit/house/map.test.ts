// The map in operator/README.md is the house as it is: every room under operator/ and
// training/ is on it and nothing on it is gone, and no import crosses from one room to
// another that the map does not allow. A change that moves a boundary changes the map too.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';

const REPO = join(import.meta.dirname, '../../..');
const TOPS = ['operator', 'training'];

interface Room {
  name: string;
  mayImport: Set<string>;
  /** The ground floor: every room may import it (its row says so). */
  everyone: boolean;
}

/** The rooms table of operator/README.md: its first column and the rooms named in its last. */
function readMap(): Map<string, Room> {
  const text = readFileSync(join(REPO, 'operator/README.md'), 'utf8');
  const table = text.slice(text.indexOf('## Rooms'));
  const rooms = new Map<string, Room>();
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const name = /^`([^`]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!name) continue;
    const last = cells[cells.length - 2] ?? '';
    const mayImport = new Set([...last.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).filter((r) => /^(operator|training)\//.test(r)));
    if (/every `operator\/` room/.test(last)) mayImport.add('operator/*');
    rooms.set(name, { name, mayImport, everyone: /every room may import/.test(last) });
  }
  return rooms;
}

/** The rooms on disk: each folder, and each TypeScript file, at the top of operator/ and training/. */
function roomsOnDisk(): string[] {
  return TOPS.flatMap((top) =>
    readdirSync(join(REPO, top))
      .filter((entry) => statSync(join(REPO, top, entry)).isDirectory() || entry.endsWith('.ts'))
      .map((entry) => (entry.endsWith('.ts') ? `${top}/${entry}` : `${top}/${entry}/`)),
  );
}

/** The room a repository path belongs to, or undefined outside operator/ and training/. */
function roomOf(path: string): string | undefined {
  const parts = path.split('/');
  if (!TOPS.includes(parts[0]!) || parts.length < 2) return undefined;
  return parts.length === 2 ? `${parts[0]}/${parts[1]}` : `${parts[0]}/${parts[1]}/`;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(REPO, dir)).flatMap((entry) => {
    const path = `${dir}/${entry}`;
    if (statSync(join(REPO, path)).isDirectory()) return entry === 'node_modules' ? [] : tsFiles(path);
    return entry.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import (static, dynamic or re-export) between two rooms: [from file, to file]. */
function crossings(): [string, string][] {
  const out: [string, string][] = [];
  for (const file of TOPS.flatMap(tsFiles)) {
    const text = readFileSync(join(REPO, file), 'utf8');
    for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)) {
      const target = relative(REPO, normalize(join(REPO, dirname(file), m[1]!)));
      if (roomOf(file) !== roomOf(target)) out.push([file, target]);
    }
  }
  return out;
}

describe('the map of the house (operator/README.md)', () => {
  const map = readMap();

  it('lists every room there is, and no room that is not there', () => {
    const onDisk = roomsOnDisk().sort();
    expect([...map.keys()].sort()).toEqual(onDisk);
  });

  it('allows every import that crosses from one room to another', () => {
    const forbidden: string[] = [];
    for (const [from, to] of crossings()) {
      const a = roomOf(from)!, b = roomOf(to);
      if (b === undefined) {
        forbidden.push(`${from} imports ${to}, outside operator/ and training/`);
        continue;
      }
      const allowed = map.get(a)?.mayImport ?? new Set<string>();
      if (map.get(b)?.everyone || allowed.has(b) || (allowed.has('operator/*') && b.startsWith('operator/'))) continue;
      forbidden.push(`${from} imports ${to}: ${a} may not import ${b} (operator/README.md)`);
    }
    expect(forbidden).toEqual([]);
  });

  it('keeps @kubernetes/client-node at the Kubernetes edge and the composition root', () => {
    const users = TOPS.flatMap(tsFiles).filter((f) => /from ['"]@kubernetes\/client-node['"]/.test(readFileSync(join(REPO, f), 'utf8')));
    expect(users.filter((f) => !f.startsWith('operator/kube/') && f !== 'operator/main.ts')).toEqual([]);
  });
});
