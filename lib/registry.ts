/**
 * Drivers register here by URI scheme; connect() asks them in registration order.
 * Registration is data, so the test driver and the Xen driver plug in the same way.
 */
import type { DriverRegistration } from './driver.js';

const registrations: DriverRegistration[] = [];

export function registerDriver(reg: DriverRegistration): void {
  if (registrations.some((r) => r.name === reg.name)) return; // module loaded twice: keep the first
  registrations.push(reg);
}

export function driversForScheme(scheme: string): DriverRegistration[] {
  // '*' (the remote driver) comes after every driver that names the scheme, as libvirt
  // tries its local drivers before handing a URI to the daemon.
  return [...registrations.filter((r) => r.uriSchemes.includes(scheme)), ...registrations.filter((r) => r.uriSchemes.includes('*'))];
}

export function registeredDrivers(): readonly DriverRegistration[] {
  return registrations;
}
