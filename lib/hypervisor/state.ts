/**
 * From Xen's domain flags to the public API's run state. Pure, so the mapping is tested
 * without a hypervisor.
 */
import type { DomainState } from '../driver.js';

export const DomainFlag = {
  dying: 1 << 0,
  hvmGuest: 1 << 1,
  shutdown: 1 << 2,
  paused: 1 << 3,
  blocked: 1 << 4,
  running: 1 << 5,
} as const;

/** Guest-supplied shutdown reason (SHUTDOWN_* in sched.h), bits 16..23 of the flags. */
export function shutdownReason(flags: number): number {
  return (flags >>> 16) & 0xff;
}
const SHUTDOWN_CRASH = 3;

/**
 * A dying domain is still being torn down ('shutdown': on its way out); one that has
 * shut down is 'shutoff', or 'crashed' when its kernel said so; then the scheduler
 * states, paused first because a paused vcpu may still be marked blocked.
 */
export function stateFromFlags(flags: number): DomainState {
  if (flags & DomainFlag.dying) return 'shutdown';
  if (flags & DomainFlag.shutdown) return shutdownReason(flags) === SHUTDOWN_CRASH ? 'crashed' : 'shutoff';
  if (flags & DomainFlag.paused) return 'paused';
  if (flags & DomainFlag.running) return 'running';
  if (flags & DomainFlag.blocked) return 'blocked';
  return 'nostate';
}
