/**
 * DescribeCluster: v0-2.
 * Behavior: as a Kafka 3.9 broker (KRaft): the cluster id, this node as the
 * only broker (at the advertised host and port of the listener the client is
 * connected to, no rack; none when that listener is not advertised, as Kafka
 * lists only the brokers that have the listener) and as the
 * controller id (a KRaft broker reports one of the live brokers there, since
 * clients cannot reach the controllers), and with
 * include_cluster_authorized_operations every cluster operation (no
 * authorizer), else -2147483648. The endpoint type asked for must be BROKER
 * (1): CONTROLLER (2) → MISMATCHED_ENDPOINT_TYPE, any other value →
 * UNSUPPORTED_ENDPOINT_TYPE (both INVALID_REQUEST at v0), with Kafka's
 * messages and an otherwise empty response.
 * Authorized operations when asked: the cluster's operations the session may
 * do when it may DESCRIBE the cluster, else 0 (without an authorizer every
 * cluster operation); -2147483648 when not asked.
 * Version notes: v1 adds endpoint_type to the request and the response; v2
 * include_fenced_brokers and each broker's is_fenced (KIP-1073): this broker
 * is never fenced (no controller fences it), so both change nothing here.
 */
import { ApiKey, apiByKey, ErrorCode, schemas } from '../../protocol/index.js';
import { AUTHORIZED_OPERATIONS_OMITTED, authorizeCluster, clusterAuthorizedOperations } from '../security/auth-helper.js';
import { defineHandler } from './handler.js';

const ENDPOINT_TYPES: Readonly<Record<number, string>> = { 1: 'BROKER', 2: 'CONTROLLER' };
const BROKER_ENDPOINT = 1;

export const describeClusterHandler = defineHandler({
  api: apiByKey(ApiKey.DescribeCluster)!,
  request: schemas.describeClusterRequest,
  response: schemas.describeClusterResponse,
  handle(ctx, req) {
    const { services, version } = ctx;
    const advertised = services.identity.advertisedListener(ctx.session.listenerName);
    const requested = ENDPOINT_TYPES[req.endpointType];
    if (requested === undefined || req.endpointType !== BROKER_ENDPOINT) {
      return {
        throttleTimeMs: 0,
        errorCode: version === 0 ? ErrorCode.INVALID_REQUEST : requested === undefined ? ErrorCode.UNSUPPORTED_ENDPOINT_TYPE : ErrorCode.MISMATCHED_ENDPOINT_TYPE,
        errorMessage:
          requested === undefined
            ? `Unsupported endpoint type ${req.endpointType}`
            : `The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type ${requested}`,
        clusterId: '',
        brokers: [],
      };
    }
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      endpointType: BROKER_ENDPOINT,
      clusterId: services.identity.clusterId,
      controllerId: services.identity.nodeId,
      brokers: advertised === undefined ? [] : [{ brokerId: services.identity.nodeId, host: advertised.host, port: advertised.port, rack: null, isFenced: false }],
      clusterAuthorizedOperations: !req.includeClusterAuthorizedOperations ? AUTHORIZED_OPERATIONS_OMITTED : authorizeCluster(ctx, 'DESCRIBE') ? clusterAuthorizedOperations(ctx) : 0,
    };
  },
});
