// The name of a Unix user or group by id, read from /etc/passwd and /etc/group, for messages.
import { readFileSync } from 'node:fs';

function lookup(file: string, id: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [name, , field] = line.split(':');
    if (name && Number(field) === id) return name;
  }
  return undefined;
}

/** `alice (1001)`, or `uid 1001` when /etc/passwd does not name it. */
export function userName(uid: number): string {
  const name = lookup('/etc/passwd', uid);
  return name === undefined ? `uid ${uid}` : `${name} (${uid})`;
}

/** `alice (1001)`, or `gid 1001` when /etc/group does not name it. */
export function groupName(gid: number): string {
  const name = lookup('/etc/group', gid);
  return name === undefined ? `gid ${gid}` : `${name} (${gid})`;
}

/** The uid and primary gid of the user named `name`, from /etc/passwd, or undefined. */
export function userByName(name: string): { uid: number; gid: number } | undefined {
  let text: string;
  try {
    text = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}
