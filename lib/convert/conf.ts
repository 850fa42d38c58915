export type ConfValue = string | number | ConfValue[];
export interface ConfEntry { name: string; value: ConfValue }
export function parseConf(_t: string): ConfEntry[] { throw new Error('todo'); }
export function formatConf(_e: ConfEntry[]): string { throw new Error('todo'); }
export function confGet(_e: ConfEntry[], _n: string): ConfValue | undefined { return undefined; }
