/**
 * A XenStore transaction: the node operations bound to one transaction id, usable only
 * until XenStore.transaction() commits or aborts it.
 */
import { ErrorCode } from '../errors.js';
import { XenStoreError } from './errors.js';
import { NodeOps, type Link } from './ops.js';

export class Transaction extends NodeOps {
  private ended = false;

  constructor(link: Link, txId: number) {
    super(link, txId);
  }

  /** @internal called by XenStore.transaction() when it ends the transaction. */
  markEnded(): void {
    this.ended = true;
  }

  protected override check(): void {
    if (this.ended) {
      throw new XenStoreError(`XenStore transaction ${this.txId} has already ended; use it only inside its callback`, {
        code: ErrorCode.OPERATION_INVALID,
      });
    }
  }
}
