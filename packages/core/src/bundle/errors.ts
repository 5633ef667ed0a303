// The one error `fcgi bundle` refuses with: what is wrong, and what to do about it.

/** A refusal of `fcgi bundle`: `message` says what is wrong, `fix` what to do instead. */
export class BundleError extends Error {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(`${message}: ${fix}`);
    this.name = 'BundleError';
    this.fix = fix;
  }
}
