// Our multipart/form-data reader (semantics/multipart-parser.ts, part-headers.ts, the reader)
// held to busboy, the parser multer uses: generated bodies with random boundaries, parts, names,
// file names, data full of delimiter look-alikes, and random split points go to both; the parts,
// names, file names, types and bytes must match, apart from the differences listed here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import busboy from 'busboy';
import fc from 'fast-check';
import { parseMultipart } from './multipart-reader.js';

interface Got {
  name: string;
  filename: string | undefined;
  type: string;
  data: string;
}
type Outcome = Got[] | 'error';

/** The media type without parameters, lower case: what busboy reports as mimeType. */
const bare = (t: string) => t.split(';')[0]!.trim().toLowerCase();

async function viaOurs(contentType: string, chunks: Buffer[]): Promise<Outcome> {
  const req = Object.assign(Readable.from(chunks, { objectMode: false }), { headers: { 'content-type': contentType } });
  const out: Got[] = [];
  try {
    for await (const part of parseMultipart(req)) {
      const bufs: Buffer[] = [];
      for await (const c of part.stream) bufs.push(c as Buffer);
      const bytes = Buffer.concat(bufs);
      // Listed difference: with no Content-Type a file is application/octet-stream for us,
      // text/plain (RFC 7578's default for any part) for busboy; compare what was sent.
      const sent = part.headers['content-type'];
      out.push({
        name: part.name,
        filename: part.filename,
        type: sent === undefined ? 'text/plain' : bare(sent),
        data: part.filename === undefined ? bytes.toString('utf8') : bytes.toString('hex'),
      });
    }
  } catch {
    return 'error';
  }
  return out;
}

/**
 * busboy with header parameters read as UTF-8 (as browsers send them; busboy's and multer's
 * default is latin1) and no field size limit.
 */
function viaBusboy(contentType: string, chunks: Buffer[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: (Got & { name: string | undefined })[] = [];
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: { 'content-type': contentType },
        defParamCharset: 'utf8',
        limits: { fieldSize: Infinity },
      });
    } catch {
      resolve('error');
      return;
    }
    bb.on('field', (name, value, info) => {
      out.push({ name, filename: undefined, type: info.mimeType, data: value });
    });
    bb.on('file', (name, stream, info) => {
      const got = { name, filename: info.filename, type: info.mimeType, data: '' };
      out.push(got);
      const bufs: Buffer[] = [];
      stream.on('data', (c: Buffer) => bufs.push(c));
      stream.on('error', () => {}); // busboy reports it on itself too
      stream.on('end', () => {
        got.data = Buffer.concat(bufs).toString('hex');
      });
    });
    bb.on('error', () => resolve('error'));
    bb.on('close', () => resolve(out));
    for (const c of chunks) bb.write(c);
    bb.end();
  });
}

/** Listed difference: a part with no name, or name="", is skipped by us and reported nameless by busboy. */
function named(o: Outcome): Outcome {
  return o === 'error' ? o : o.filter((p) => p.name !== undefined && p.name !== '');
}

const BCHARS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ".split('');
/** RFC 2046 boundaries: 1 to 70 bchars, not ending in a space. */
const boundary = fc
  .array(fc.constantFrom(...BCHARS), { minLength: 1, maxLength: 70 })
  .map((cs) => cs.join(''))
  .filter((b) => !b.endsWith(' '));
/**
 * Names and file names: no quote, CR or LF (browsers escape those as %22, %0D, %0A). Listed
 * difference: a backslash right before the closing quote escapes it for both parsers, and the
 * misparse that follows differs (we keep the part, busboy drops it), so none ends in one.
 */
const text = fc
  .array(
    fc.constantFrom(
      'a',
      'b',
      'Z',
      '0',
      ' ',
      '-',
      '.',
      '..',
      ';',
      '=',
      ',',
      '%22',
      'é',
      '☃',
      '😀',
      '[',
      ']',
      '\\',
      '\t',
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((cs) => cs.join(''))
  .map((t) => (t.endsWith('\\') ? `${t}x` : t));
const fileName = fc.oneof(
  text,
  text.map((t) => `dir/${t}`),
  text.map((t) => `C:\\x\\${t}`),
  fc.constantFrom('', '.', 'a/..'),
);

interface PartSpec {
  name: string | null;
  filename: string | null;
  star: boolean;
  type: string | null;
  data: Uint8Array;
  look: number[];
}

const partSpec = fc.record({
  name: fc.oneof({ weight: 9, arbitrary: text }, { weight: 1, arbitrary: fc.constant(null) }),
  filename: fc.oneof(fc.constant(null), fileName),
  star: fc.boolean(),
  type: fc.constantFrom(null, 'text/plain', 'Application/JSON', 'image/png', 'text/plain; charset=utf-8'),
  data: fc.uint8Array({ maxLength: 200 }),
  look: fc.array(fc.nat(), { maxLength: 3 }),
});

/**
 * `data` with proper prefixes of the delimiter (and the delimiter without its CRLF) spliced in,
 * then any whole delimiter the splices made broken up: a well-formed form never holds one.
 */
function hostileData(p: PartSpec, b: string): Buffer {
  const delimiter = `\r\n--${b}`;
  let data = Buffer.from(p.data);
  for (const n of p.look) {
    const cut = (n % (delimiter.length - 1)) + 1; // 1 .. length-1: never the whole delimiter
    const piece = n % 5 === 0 ? `--${b}` : delimiter.slice(0, cut);
    const at = data.length === 0 ? 0 : n % data.length;
    data = Buffer.concat([data.subarray(0, at), Buffer.from(piece, 'latin1'), data.subarray(at)]);
  }
  for (let at = data.indexOf(delimiter, 0, 'latin1'); at >= 0; at = data.indexOf(delimiter, 0, 'latin1')) {
    data = Buffer.concat([data.subarray(0, at + 2), data.subarray(at + 3)]); // drop one dash
  }
  // Listed difference: data that starts with --boundary right after the blank line (which is then
  // a delimiter with the blank line's CRLF): busboy fails, we end the header block first.
  return data.subarray(0, b.length + 2).toString('latin1') === `--${b}`
    ? Buffer.concat([Buffer.from('x'), data])
    : data;
}

function buildBody(b: string, parts: PartSpec[], preamble: string, epilogue: string): Buffer {
  // A preamble that holds the delimiter would not be one.
  const pre = preamble.includes(`--${b}`) ? 'preamble' : preamble;
  const out: Buffer[] = [Buffer.from(pre ? `${pre}\r\n` : '')];
  for (const p of parts) {
    let disp = 'form-data';
    if (p.name !== null) disp += `; name="${p.name}"`;
    if (p.filename !== null) {
      disp += `; filename="${p.filename}"`;
      if (p.star && p.filename) disp += `; filename*=UTF-8''${encodeURIComponent(p.filename)}`;
    }
    let head = `--${b}\r\nContent-Disposition: ${disp}\r\n`;
    if (p.type !== null) head += `Content-Type: ${p.type}\r\n`;
    out.push(Buffer.from(`${head}\r\n`, 'utf8'), hostileData(p, b), Buffer.from('\r\n'));
  }
  out.push(Buffer.from(`--${b}--${epilogue}`));
  return Buffer.concat(out);
}

function split(body: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((x, y) => x - y);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    chunks.push(body.subarray(last, p));
    last = p;
  }
  chunks.push(body.subarray(last));
  return chunks.filter((c) => c.length > 0);
}

const form = fc.record({
  b: boundary,
  parts: fc.array(partSpec, { maxLength: 5 }),
  preamble: fc.constantFrom('', 'This is a preamble.', '--not-it'),
  epilogue: fc.constantFrom('', '\r\n', '\r\nepilogue\r\n'),
  cuts: fc.array(fc.nat(), { maxLength: 12 }),
});

describe('multipart/form-data against busboy (differential)', () => {
  it('the same parts, names, file names, types and bytes for generated forms split anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(form, async ({ b, parts, preamble, epilogue, cuts }) => {
        const body = buildBody(b, parts, preamble, epilogue);
        const chunks = split(body, cuts);
        const ct = `multipart/form-data; boundary="${b}"`;
        const [ours, theirs] = await Promise.all([viaOurs(ct, chunks), viaBusboy(ct, chunks)]);
        assert.notEqual(ours, 'error');
        assert.deepEqual(named(ours), named(theirs));
      }),
      { numRuns: 400 },
    );
  });

  it('a body cut short fails in both; cut after the close delimiter, both read it whole', async () => {
    await fc.assert(
      fc.asyncProperty(form, fc.nat(), async ({ b, parts, preamble, cuts }, at) => {
        const body = buildBody(b, parts, preamble, '\r\nepilogue');
        const end = body.lastIndexOf(`--${b}--`) + b.length + 4;
        const truncated = body.subarray(0, at % (body.length + 1));
        const chunks = split(truncated, cuts);
        const ct = `multipart/form-data; boundary="${b}"`;
        const [ours, theirs] = await Promise.all([viaOurs(ct, chunks), viaBusboy(ct, chunks)]);
        if (truncated.length >= end) {
          assert.deepEqual(named(ours), named(theirs));
          return;
        }
        assert.equal(ours, 'error');
        // Listed difference: cut before the first part's header block ends, busboy reports an
        // empty form without an error; we answer 400 (the body is not a whole form).
        const firstBlockEnd = parts.length === 0 ? Infinity : body.indexOf('\r\n\r\n', body.indexOf(`--${b}\r\n`)) + 4;
        if (theirs !== 'error') {
          assert.deepEqual(theirs, [], 'busboy read a truncated body as parts');
          assert.ok(truncated.length < firstBlockEnd, `busboy silent at ${truncated.length} of ${body.length}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('each listed difference, as busboy answers it', async () => {
    const b = 'XyZ';
    const one = (disp: string, data = 'v') => [
      Buffer.from(`--${b}\r\nContent-Disposition: ${disp}\r\n\r\n${data}\r\n--${b}--`),
    ];
    const ct = `multipart/form-data; boundary=${b}`;
    // Nameless parts: skipped by us, reported with no name by busboy.
    assert.deepEqual(await viaOurs(ct, one('form-data')), []);
    assert.deepEqual(await viaBusboy(ct, one('form-data')), [
      { name: undefined, filename: undefined, type: 'text/plain', data: 'v' },
    ]);
    assert.deepEqual(await viaOurs(ct, one('form-data; name=""')), [
      { name: '', filename: undefined, type: 'text/plain', data: 'v' },
    ]);
    assert.deepEqual(await viaBusboy(ct, one('form-data; name=""')), [
      { name: undefined, filename: undefined, type: 'text/plain', data: 'v' },
    ]);
    // A backslash before the closing quote: both take it as an escape; we keep the misread part.
    const slash = one('form-data; name="\\"; filename=";a=a"', '');
    assert.deepEqual(await viaOurs(ct, slash), [
      { name: '"; filename=', filename: undefined, type: 'text/plain', data: '' },
    ]);
    assert.deepEqual(await viaBusboy(ct, slash), []);
    // Data that starts with --boundary: we end the header block first, busboy sees a delimiter.
    const dashes = one('form-data; name="f"', `--${b}`);
    assert.deepEqual(await viaOurs(ct, dashes), [
      { name: 'f', filename: undefined, type: 'text/plain', data: `--${b}` },
    ]);
    assert.equal(await viaBusboy(ct, dashes), 'error');
    // A file part without Content-Type: application/octet-stream for us, text/plain for busboy.
    const [file] = one('form-data; name="f"; filename="a.bin"');
    const req = Object.assign(Readable.from([file!], { objectMode: false }), { headers: { 'content-type': ct } });
    for await (const part of parseMultipart(req)) assert.equal(part.contentType, 'application/octet-stream');
    assert.equal(((await viaBusboy(ct, [file!])) as Got[])[0]!.type, 'text/plain');
    // Header parameters in UTF-8, as browsers send them; busboy's default reads them as latin1.
    const utf8 = one('form-data; name="é"');
    assert.equal(((await viaOurs(ct, utf8)) as Got[])[0]!.name, 'é');
    const latin1 = await new Promise<string>((resolve) => {
      const bb = busboy({ headers: { 'content-type': ct } });
      bb.on('field', (name) => resolve(name));
      for (const c of utf8) bb.write(c);
      bb.end();
    });
    assert.equal(latin1, 'Ã©');
  });
});
