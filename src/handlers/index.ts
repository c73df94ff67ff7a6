/**
 * Every handler, one module per API key. Adding an API = writing its module
 * and listing it here; ApiVersions answers from this list.
 */
import { apiVersionsHandler } from './api-versions.js';
import { registerHandlers } from './registry.js';

registerHandlers([apiVersionsHandler]);

export { handlerFor, supportedApis } from './registry.js';
