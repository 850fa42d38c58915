/**
 * domxml-from-native / domxml-to-native for any driver: the converters are pure
 * functions, so a connection answers them without touching its host. Loaded on first
 * use, so connections that never convert do not pay for the converter modules.
 */
import type { NativeFormat } from '../driver.js';

export async function convertFromNative(format: NativeFormat, text: string): Promise<string> {
  const { xmlFromNative } = await import('../convert/index.js');
  return xmlFromNative(format, text);
}

export async function convertToNative(format: NativeFormat, xml: string): Promise<string> {
  const { xmlToNative } = await import('../convert/index.js');
  return xmlToNative(format, xml);
}
