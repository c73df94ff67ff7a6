/**
 * ApiVersions: v0-4.
 * Behavior: lists exactly the APIs and versions of the handler registry that
 * this broker serves.
 * Records the client software name/version (v3+) in the connection's session.
 * v3+ also carry the supported and finalized features (src/features.ts:
 * transaction.version 0-2, finalized at gregor.transaction.version;
 * group.version 0-1, finalized at 1), with finalized features epoch 0.
 * A request at a version above ours is answered by the dispatch with a v0
 * body, UNSUPPORTED_VERSION and only our ApiVersions range (see dispatch.ts).
 * Version notes: v3+ validates the software name/version (INVALID_REQUEST).
 */
import { ApiKey, apiByKey, ErrorCode, schemas } from '../../protocol/index.js';
import { FINALIZED_FEATURES_EPOCH, finalizedFeatures, supportedFeatures } from '../features.js';
import { defineHandler } from './handler.js';
import { supportedApis } from './registry.js';

const SOFTWARE_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export const apiVersionsHandler = defineHandler({
  api: apiByKey(ApiKey.ApiVersions)!,
  request: schemas.apiVersionsRequest,
  response: schemas.apiVersionsResponse,
  handle(ctx, req) {
    const apiKeys = supportedApis();
    if (ctx.version >= 3) {
      if (!SOFTWARE_PATTERN.test(req.clientSoftwareName) || !SOFTWARE_PATTERN.test(req.clientSoftwareVersion)) {
        return { errorCode: ErrorCode.INVALID_REQUEST, apiKeys, throttleTimeMs: 0 };
      }
      ctx.session.clientSoftwareName = req.clientSoftwareName;
      ctx.session.clientSoftwareVersion = req.clientSoftwareVersion;
    }
    if (ctx.version < 3) return { errorCode: ErrorCode.NONE, apiKeys, throttleTimeMs: 0 };
    return {
      errorCode: ErrorCode.NONE,
      apiKeys,
      throttleTimeMs: 0,
      supportedFeatures: supportedFeatures(ctx.version),
      finalizedFeaturesEpoch: BigInt(FINALIZED_FEATURES_EPOCH),
      finalizedFeatures: finalizedFeatures(ctx.services.config),
    };
  },
});
