/** The wire format: primitives, schemas, codecs, frames, errors. No sockets, no disk. */
export * from './errors.js';
export * from './error-codes.js';
export * from './primitives.js';
export * from './schema.js';
export * from './codec.js';
export * from './apis.js';
export * from './frame.js';
export * as schemas from './schemas/index.js';
