/**
 * Every handler, one module per API key. Adding an API = writing its module
 * and listing it here; ApiVersions answers from this list.
 */
import { apiVersionsHandler } from './api-versions.js';
import { createTopicsHandler } from './create-topics.js';
import { deleteTopicsHandler } from './delete-topics.js';
import { fetchHandler } from './fetch.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { produceHandler } from './produce.js';
import { registerHandlers } from './registry.js';

registerHandlers([
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  apiVersionsHandler,
  createTopicsHandler,
  deleteTopicsHandler,
]);

export { handlerFor, supportedApis } from './registry.js';
