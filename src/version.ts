// The version has one source, package.json; the bundle carries it from there.
import pkg from '../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
