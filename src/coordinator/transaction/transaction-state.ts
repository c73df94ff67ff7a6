/**
 * The states of a transactional id (Kafka's TransactionState), their ids in
 * `__transaction_state` (the value's int8 status) and names (what
 * DescribeTransactions and ListTransactions report), and which state may
 * follow which:
 *
 *   Empty ──AddPartitions/AddOffsets──▶ Ongoing ──EndTxn(commit)──▶ PrepareCommit ──markers written──▶ CompleteCommit
 *     ▲                                  │  ▲ (more partitions)        │
 *     │                                  │  └──────┘                   EndTxn(abort), timeout, re-init:
 *     │                                  ├──────────────────────────▶ PrepareAbort ──markers written──▶ CompleteAbort
 *     │                                  └─ re-init / timeout: PrepareEpochFence (never written; becomes PrepareAbort)
 *     └── InitProducerId (epoch bump) from Empty, CompleteCommit, CompleteAbort; also Ongoing again from both Completes
 *
 * Dead is the state of an id being expired (its tombstone in flight); it is
 * never written as a value. Expiration is allowed from Empty, CompleteCommit
 * and CompleteAbort.
 */

export type TransactionState =
  | 'Empty'
  | 'Ongoing'
  | 'PrepareCommit'
  | 'PrepareAbort'
  | 'CompleteCommit'
  | 'CompleteAbort'
  | 'Dead'
  | 'PrepareEpochFence';

const IDS: Readonly<Record<TransactionState, number>> = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
};

const BY_ID: readonly TransactionState[] = (Object.keys(IDS) as TransactionState[]).sort((a, b) => IDS[a] - IDS[b]);

/** Every state, by id. */
export const TRANSACTION_STATES: readonly TransactionState[] = BY_ID;

/** The states a transition into each state may start from. */
const VALID_PREVIOUS: Readonly<Record<TransactionState, readonly TransactionState[]>> = {
  Empty: ['Empty', 'CompleteCommit', 'CompleteAbort'],
  Ongoing: ['Ongoing', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  PrepareCommit: ['Ongoing'],
  // transaction version 2: an abort from Empty or a complete transaction (no partition added) is allowed
  PrepareAbort: ['Ongoing', 'PrepareEpochFence', 'Empty', 'CompleteCommit', 'CompleteAbort'],
  CompleteCommit: ['PrepareCommit'],
  CompleteAbort: ['PrepareAbort'],
  Dead: ['Empty', 'CompleteAbort', 'CompleteCommit'],
  PrepareEpochFence: ['Ongoing'],
};

export function transactionStateId(state: TransactionState): number {
  return IDS[state];
}

/** The state of a status id; throws for an id Kafka does not define (Kafka refuses such a record too). */
export function transactionStateOf(id: number): TransactionState {
  const state = BY_ID[id];
  if (state === undefined || id < 0) throw new Error(`unknown transaction state id ${id}`);
  return state;
}

/** The state named as DescribeTransactions names it ("Ongoing"), or undefined. */
export function transactionStateNamed(name: string): TransactionState | undefined {
  return Object.hasOwn(IDS, name) ? (name as TransactionState) : undefined;
}

export function isValidTransition(from: TransactionState, to: TransactionState): boolean {
  return VALID_PREVIOUS[to].includes(from);
}

/** A transactional id in this state may be expired (transactional.id.expiration.ms). */
export function isExpirationAllowed(state: TransactionState): boolean {
  return state === 'Empty' || state === 'CompleteCommit' || state === 'CompleteAbort';
}

/** A transaction is open: partitions may hold its uncommitted data. */
export function hasPendingTransaction(state: TransactionState): boolean {
  return state === 'Ongoing' || state === 'PrepareAbort' || state === 'PrepareCommit';
}
