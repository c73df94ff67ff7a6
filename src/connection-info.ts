/**
 * What a handler sees of the connection its request came on (connection.ts
 * implements it): where it comes from, and the things a handler may do
 * to it. Who the client is (principal, client id, software) is the Session's
 * (session.ts), not the connection's.
 */
export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Closes the connection (e.g. a failed Produce with acks=0, which gets no response). */
  close(reason: string): void;
  /**
   * Closes the connection once the response to the request being handled has been written (a failed
   * authentication's answer); nothing the client sends meanwhile is read or handled.
   */
  closeAfterResponse(reason: string): void;
  /**
   * Runs `done` once the response to the request being handled has been handed to the kernel, or when
   * there is none (no response, a closed connection): what the response holds may then be released.
   * Call it before detach().
   */
  afterResponse(done: () => void): void;
  /**
   * Lets the connection go on to its next request while this one finishes; responses still leave in
   * request order. For a handler whose order-sensitive work is done and that now only waits (Produce
   * acks=all after its appends, waiting for fdatasync): one producer's pipelined requests then share
   * fdatasync rounds (group commit) instead of taking one each.
   */
  detach(): void;
  /** Runs `done` once when the connection closes (by either side), or at once if it is closed already. */
  whenClosed(done: () => void): void;
}
