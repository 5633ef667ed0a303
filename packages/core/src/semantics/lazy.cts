// jshttp packages that pull in mime-db, loaded at their first use: mime-db's table (2,500 types)
// costs about 3 MB of heap and 10-15 ms of start in a process that may never need it. A CommonJS
// file because ES modules have no synchronous lazy import; `fcgi bundle` turns each require() here
// into a call of the bundled copy, kept inside its function, so a bundle loads them lazily too.
type MimeTypes = typeof import('mime-types');
type Accepts = typeof import('accepts');
type TypeIs = typeof import('type-is');

let mime: MimeTypes | undefined;
let accepts: Accepts | undefined;
let typeis: TypeIs | undefined;

/**
 * Whether to load through module.require(): in Node, always. Under loader hooks (tsx), Node 20
 * runs this file through a require() that cannot load a .json (mime-db's table), and
 * module.require() is Node's own CommonJS loader. In a bundle `module` has no require(), and the
 * literal require() calls below are what esbuild bundles.
 */
const own = typeof (module as Partial<NodeJS.Module>).require === 'function';

export = {
  mimeTypes(): MimeTypes {
    mime ??= (own ? module.require('mime-types') : require('mime-types')) as MimeTypes;
    return mime;
  },
  accepts(): Accepts {
    accepts ??= (own ? module.require('accepts') : require('accepts')) as Accepts;
    return accepts;
  },
  typeis(): TypeIs {
    typeis ??= (own ? module.require('type-is') : require('type-is')) as TypeIs;
    return typeis;
  },
};
