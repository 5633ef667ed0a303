// multipart(): multipart/form-data forms as middleware, in the shape multer gives them:
// req.body holds the fields (a repeated name becomes an array), req.files the files, kept in
// memory or written to a temp dir that is removed once the response is over.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BodyMiddleware } from './body-parser.js';
import { decoderFor } from './charset.js';
import { hasBody, parseMediaType, typeMatcher, type TypeOption } from './media-type.js';
import { parseMultipart, type MultipartLimits, type MultipartPart } from './multipart-reader.js';
import { drain, type BodyRequest } from './read-body.js';

export interface UploadedFile {
  /** The form field the file came in. */
  fieldname: string;
  /** The file name the client gave. */
  originalname: string;
  /** Always '7bit' (kept for multer compatibility; RFC 7578 deprecates Content-Transfer-Encoding). */
  encoding: string;
  mimetype: string;
  size: number;
  /** Disk storage: the directory, the generated file name and the full path. */
  destination?: string;
  filename?: string;
  path?: string;
  /** Memory storage: the bytes. */
  buffer?: Buffer;
}

declare module '../request.js' {
  interface AppRequest {
    /** Files of a multipart/form-data body, set by multipart(). */
    files?: UploadedFile[];
  }
}

export interface MultipartOptions {
  limits?: MultipartLimits;
  /** 'memory' (default): files as Buffers; 'disk': files in a temp dir, removed when the response is over. */
  storage?: 'memory' | 'disk';
  /** Disk storage: where the per-request temp dir is made (default os.tmpdir()). */
  dest?: string;
  /** Which requests to handle (default multipart/form-data). */
  type?: TypeOption<BodyRequest>;
}

interface Response {
  once(event: string, fn: () => void): unknown;
  writableFinished?: boolean;
  destroyed?: boolean;
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

function addField(body: Record<string, unknown>, name: string, value: unknown): void {
  // With a null-prototype body this would be harmless, but copies of req.body made with
  // Object.assign would get their prototype replaced: drop the name instead.
  if (name === '__proto__') return;
  const prev = body[name];
  if (prev === undefined) body[name] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else body[name] = [prev, value];
}

/** Removes `dir` once the response finished or was torn down (whichever comes first). */
function removeWhenDone(res: Response, dir: string): void {
  let removed = false;
  const remove = (): void => {
    if (removed) return;
    removed = true;
    rm(dir, { recursive: true, force: true }).catch(() => {});
  };
  if (res.writableFinished || res.destroyed) return remove();
  res.once('finish', remove);
  res.once('close', remove);
}

export function multipart(options: MultipartOptions = {}): BodyMiddleware {
  const storage = options.storage ?? 'memory';
  if (storage !== 'memory' && storage !== 'disk') throw new TypeError("option storage must be 'memory' or 'disk'");
  const limits = options.limits ?? {};
  const base = options.dest ?? tmpdir();
  const shouldParse = typeMatcher(options.type ?? 'multipart/form-data');

  async function read(req: BodyRequest, res: Response): Promise<void> {
    const body: Record<string, unknown> = Object.create(null);
    const files: UploadedFile[] = [];
    // Visible as they arrive, as with multer, so an error handler sees what came.
    req.body = body;
    (req as { files?: UploadedFile[] }).files = files;
    let dir: Promise<string> | null = null;
    for await (const part of parseMultipart(req, limits)) {
      if (part.filename === undefined) {
        const charset = parseMediaType(part.contentType)?.params.charset ?? 'utf-8';
        const decode = decoderFor(charset) ?? decoderFor('utf-8')!;
        addField(body, part.name, decode(await collect(part.stream)));
        continue;
      }
      const file: UploadedFile = {
        fieldname: part.name,
        originalname: part.filename,
        encoding: '7bit',
        mimetype: part.contentType,
        size: 0,
      };
      if (storage === 'memory') {
        file.buffer = await collect(part.stream);
        file.size = file.buffer.length;
      } else {
        dir ??= mkdtemp(join(base, 'fcgi-upload-')).then((d) => {
          removeWhenDone(res, d);
          return d;
        });
        await writeFile(part, file, await dir);
      }
      files.push(file);
    }
  }

  return function multipartParser(req, res, next) {
    if (req._body === true || req.readableEnded || req.destroyed) return next();
    if (!('body' in req)) req.body = undefined;
    if (!hasBody(req) || !shouldParse(req)) return next();
    req._body = true;
    read(req, res).then(
      () => next(),
      (err: unknown) => drain(req, () => next(err)),
    );
  };
}

async function writeFile(part: MultipartPart, file: UploadedFile, dir: string): Promise<void> {
  const name = randomBytes(16).toString('hex');
  const path = join(dir, name);
  const out = createWriteStream(path, { flags: 'wx', mode: 0o600 });
  await pipeline(part.stream, out);
  Object.assign(file, { destination: dir, filename: name, path, size: out.bytesWritten });
}
