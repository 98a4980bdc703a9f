/**
 * Every provider earshot speaks, one line each. Adding a provider is one
 * folder (partners/<name>/: client adapter, wire messages, emulator
 * session, and an index exporting its ProviderDef) plus one line here.
 */
import { assemblyai } from './assemblyai';
import { deepgram } from './deepgram';
import { gladia } from './gladia';
import { openai } from './openai';
import { raw } from './raw';
import { speechmatics } from './speechmatics';
import type { ProviderDef } from './types';

export const PROVIDERS: readonly ProviderDef[] = [
  deepgram,
  assemblyai,
  raw,
  speechmatics,
  openai,
  gladia,
];

export function providerNamed(name: string): ProviderDef | undefined {
  return PROVIDERS.find((p) => p.name === name);
}

/** "deepgram, assemblyai or raw", for messages. */
export function providerList(): string {
  const names = PROVIDERS.map((p) => p.name);
  return `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}
