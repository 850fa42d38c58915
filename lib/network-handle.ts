/** `Network`: a handle on one virtual network of a connection's network driver. */
import type { DispatchState } from './dispatch.js';
import { callNetwork } from './dispatch.js';
import type { NetworkRef } from './driver.js';

export class Network {
  #state: DispatchState;
  #ref: NetworkRef;

  /** @internal Created by Connection. */
  constructor(state: DispatchState, ref: NetworkRef) {
    this.#state = state;
    this.#ref = { name: ref.name, uuid: ref.uuid };
  }

  get name(): string {
    return this.#ref.name;
  }
  get uuid(): string {
    return this.#ref.uuid;
  }

  async create(): Promise<void> {
    await callNetwork(this.#state, 'networkCreate', this.#ref);
  }
  async destroy(): Promise<void> {
    await callNetwork(this.#state, 'networkDestroy', this.#ref);
  }
  async undefine(): Promise<void> {
    await callNetwork(this.#state, 'networkUndefine', this.#ref);
  }
  async getXMLDesc(): Promise<string> {
    return callNetwork<string>(this.#state, 'networkGetXMLDesc', this.#ref);
  }
  async getBridgeName(): Promise<string> {
    return callNetwork<string>(this.#state, 'networkGetBridgeName', this.#ref);
  }
  async isActive(): Promise<boolean> {
    return callNetwork<boolean>(this.#state, 'networkIsActive', this.#ref);
  }

  toJSON(): NetworkRef {
    return { ...this.#ref };
  }
}
