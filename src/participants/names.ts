/** A participant's name as a folder name: no separators, no dot-files, bounded. */
export function safeName(name: string): string {
  const s = name.replace(/[^\p{L}\p{N}_.@-]+/gu, '_').replace(/^\.+/, '_').slice(0, 64);
  return s || '_';
}
