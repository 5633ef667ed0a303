// fcgi doctor's checks of the app file itself and its directory. Under suEXEC by its rules (Apache's
// support/suexec.c): a regular file, not a link; line ends; the exec bit; no setuid/setgid; no
// group or other write bit on the file or its directory; both owned by the user and group that run
// it. Otherwise: the user that runs it can read and run the file and enter its directory, and
// write bits for others are a warning (anyone with them can change the code the server runs).
import { lstatSync, readFileSync, type Stats, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { groupName, userName } from '../hosting/user-name.js';
import { type Finding, SLOW_UNDER_FCGID } from './finding.js';
import type { Runner } from './runner.js';

/** The file's first line (without its line end) and whether that line ends in CR LF. */
export function firstLine(bytes: Buffer): { text: string; crlf: boolean; bom: boolean } {
  const nl = bytes.indexOf(0x0a);
  const end = nl < 0 ? bytes.length : nl;
  const crlf = end > 0 && bytes[end - 1] === 0x0d;
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  return { text: bytes.subarray(bom ? 3 : 0, crlf ? end - 1 : end).toString('utf8'), crlf, bom };
}

function lineEnds(file: string, bytes: Buffer): Finding {
  const name = basename(file);
  const { text, crlf, bom } = firstLine(bytes);
  if (bom) {
    return {
      level: 'problem',
      check: 'first line',
      message: `${name} starts with a byte order mark (EF BB BF) before "#!", so the system cannot find its interpreter`,
      fix: `save it as UTF-8 without BOM, or run: sed -i '1s/^\\xEF\\xBB\\xBF//' ${name}`,
    };
  }
  if (!text.startsWith('#!')) {
    return {
      level: 'problem',
      check: 'first line',
      message: `${name} does not start with "#!" naming its interpreter, so Apache cannot run it`,
      fix: `make it with \`fcgi bundle\`, or add \`#!/usr/bin/env node\` as its first line`,
    };
  }
  if (crlf) {
    return {
      level: 'problem',
      check: 'line ends',
      message:
        `${name} has Windows line ends (CR LF): the system looks for an interpreter named "node\\r" ` +
        `and the error log says "No such file or directory"${SLOW_UNDER_FCGID}`,
      fix: `run: sed -i 's/\\r$//' ${name}   (and upload it in binary mode next time)`,
    };
  }
  return { level: 'ok', check: 'line ends', message: 'the first line ends in LF' };
}

function mode(st: Stats): string {
  return (st.mode & 0o7777).toString(8).padStart(3, '0');
}

/** Whether `runner` has all of `bits` (4 read, 2 write, 1 execute) on a file with `st`. */
function allows(st: Stats, runner: Runner, bits: number): boolean {
  if (runner.uid === 0) return (bits & 1) === 0 || (st.mode & 0o111) !== 0;
  const shift = st.uid === runner.uid ? 6 : st.gid === runner.gid ? 3 : 0;
  return ((st.mode >> shift) & bits) === bits;
}

function writeBits(what: string, st: Stats, suexec: boolean, fix: string, refused: string): Finding {
  const by = st.mode & 0o002 ? 'every user' : 'its group';
  return suexec
    ? {
        level: 'problem',
        check: 'write bits',
        message: `${what} is writable by ${by} (mode ${mode(st)}): ${refused}`,
        fix,
      }
    : {
        level: 'warning',
        check: 'write bits',
        message: `${what} is writable by ${by} (mode ${mode(st)}): they can change the code the web server runs`,
        fix,
      };
}

function fileBits(file: string, st: Stats, runner: Runner): Finding[] {
  const name = basename(file);
  const suexec = runner.kind === 'suexec';
  const out: Finding[] = [];
  if (suexec ? !(st.mode & 0o100) : !allows(st, runner, 5)) {
    out.push({
      level: 'problem',
      check: 'exec bit',
      message: suexec
        ? `${name} is not executable (mode ${mode(st)}): Apache cannot start it; visitors get a 500 and the error log says "suexec policy violation" (under suEXEC) or "Permission denied"${SLOW_UNDER_FCGID}`
        : `${userName(runner.uid)}, who runs the app, cannot read and execute ${name} (mode ${mode(st)}, owner ${userName(st.uid)}): visitors get a 500 and the error log says "Permission denied"${SLOW_UNDER_FCGID}`,
      fix: `chmod 755 ${name}`,
    });
  } else out.push({ level: 'ok', check: 'exec bit', message: `${name} is executable (mode ${mode(st)})` });
  if (suexec && st.mode & 0o6000) {
    out.push({
      level: 'problem',
      check: 'setuid',
      message: `${name} is setuid or setgid (mode ${mode(st)}), which suEXEC refuses`,
      fix: `chmod 755 ${name}`,
    });
  }
  if (st.mode & 0o022) {
    out.push(
      writeBits(
        name,
        st,
        suexec,
        `chmod 755 ${name}`,
        `suEXEC refuses to run it; visitors get a 500 and the error log says "suexec policy violation" (suEXEC's own log: "file is writable by others")${SLOW_UNDER_FCGID}`,
      ),
    );
  } else out.push({ level: 'ok', check: 'write bits', message: `only the owner can write ${name}` });
  return out;
}

function dirBits(dir: string, st: Stats, runner: Runner): Finding[] {
  const suexec = runner.kind === 'suexec';
  const out: Finding[] = [];
  if (!suexec && !allows(st, runner, 1)) {
    out.push({
      level: 'problem',
      check: 'directory',
      message: `${userName(runner.uid)}, who runs the app, cannot enter ${dir} (mode ${mode(st)}, owner ${userName(st.uid)}): the error log says "Permission denied"`,
      fix: `chmod 755 ${dir}`,
    });
  }
  if (st.mode & 0o022) {
    const f = writeBits(
      dir,
      st,
      suexec,
      `chmod 755 ${dir}`,
      `suEXEC refuses to run anything in it; visitors get a 500 and the error log says "suexec policy violation" (suEXEC's own log: "directory is writable by others")${SLOW_UNDER_FCGID}`,
    );
    out.push({ ...f, check: 'directory write bits' });
  } else out.push({ level: 'ok', check: 'directory write bits', message: `only the owner can write ${dir}` });
  return out;
}

/** suEXEC runs a file only when its uid and gid, and its directory's, are the target user's. */
function owners(file: string, st: Stats, dir: string, dst: Stats, uid: number, gid: number): Finding[] {
  const name = basename(file);
  const you = `${userName(uid)}, group ${groupName(gid)}`;
  const out: Finding[] = [];
  if (st.uid !== uid || st.gid !== gid) {
    out.push({
      level: 'problem',
      check: 'owner',
      message:
        `${name} belongs to ${userName(st.uid)}, group ${groupName(st.gid)}, but it runs as you (${you}): ` +
        'suEXEC refuses a file that is not its user\'s and group\'s ("target uid/gid mismatch")',
      fix:
        st.uid === uid
          ? `chgrp ${gid} ${name}`
          : `make a copy that is yours and put it in place: cp ${name} ${name}.new && mv ${name}.new ${name} && chmod 755 ${name}`,
    });
  } else out.push({ level: 'ok', check: 'owner', message: `${name} belongs to you (${you})` });
  if (dst.uid !== uid || dst.gid !== gid) {
    out.push({
      level: 'problem',
      check: 'directory owner',
      message:
        `${dir} belongs to ${userName(dst.uid)}, group ${groupName(dst.gid)}, but the app runs as you (${you}): ` +
        "suEXEC refuses to run a file in a directory that is not its user's and group's",
      fix:
        dst.uid === uid
          ? `chgrp ${gid} ${dir}`
          : 'put the app in a directory of your own (under public_html), or ask the host to give you this one',
    });
  } else out.push({ level: 'ok', check: 'directory owner', message: `${dir} belongs to you` });
  return out;
}

export interface FileFacts {
  /** The file's bytes, or null when it could not be read. */
  bytes: Buffer | null;
  findings: Finding[];
}

/** Every check of the file and its directory; `bytes` for the checks that read the first line. */
export function checkFile(file: string, runner: Runner): FileFacts {
  const name = basename(file);
  let lst: Stats;
  try {
    lst = lstatSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      bytes: null,
      findings: [
        {
          level: 'problem',
          check: 'file',
          message: code === 'ENOENT' ? `there is no file ${file}` : `cannot read ${file} (${code})`,
          fix: 'give the path of the app file you uploaded, e.g. fcgi doctor ~/public_html/app.fcgi',
        },
      ],
    };
  }
  const findings: Finding[] = [];
  if (lst.isSymbolicLink() && runner.kind === 'suexec') {
    findings.push({
      level: 'problem',
      check: 'link',
      message: `${name} is a symbolic link, which suEXEC refuses to run ("cannot stat program")`,
      fix: `put the file itself there: cp --remove-destination "$(readlink -f ${name})" ${name}`,
    });
  }
  const st = statSync(file);
  if (!st.isFile()) {
    findings.push({ level: 'problem', check: 'file', message: `${file} is not a file`, fix: 'give the app file' });
    return { bytes: null, findings };
  }
  let bytes: Buffer | null = null;
  try {
    bytes = readFileSync(file);
    findings.push(lineEnds(file, bytes));
  } catch (e) {
    findings.push({
      level: 'problem',
      check: 'file',
      message: `cannot read ${file} (${(e as NodeJS.ErrnoException).code})`,
      fix: `chmod 755 ${name}`,
    });
  }
  findings.push(...fileBits(file, st, runner));
  const dir = dirname(file);
  const dst = statSync(dir);
  findings.push(...dirBits(dir, dst, runner));
  if (runner.kind === 'suexec') findings.push(...owners(file, st, dir, dst, runner.uid, runner.gid));
  return { bytes, findings };
}
