/**
 * Record batches (magic 2), legacy message sets (magic 0/1), conversion between
 * them, compression, and the validation of produced records.
 */
export * from './batch-header.js';
export * from './checksums.js';
export * from './batch-records.js';
export * from './batch-builder.js';
export * from './batch-filter.js';
export * from './control-record.js';
export * from './compression.js';
export * from './produce-validation.js';
export * from './message-set.js';
export * from './conversion.js';
