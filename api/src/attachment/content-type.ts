/** File types a clinic accepts, recognised by their first bytes (never by name or declared type). */
export const ALLOWED_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/gif', 'image/webp', 'text/plain'] as const;
export type AllowedType = (typeof ALLOWED_TYPES)[number];

const startsWith = (data: Buffer, bytes: readonly number[], offset = 0): boolean => bytes.every((b, i) => data[offset + i] === b);

export function sniffContentType(data: Buffer): AllowedType | undefined {
  if (startsWith(data, [0x25, 0x50, 0x44, 0x46, 0x2d])) return 'application/pdf'; // %PDF-
  if (startsWith(data, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(data, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(data, [0x47, 0x49, 0x46, 0x38]) && (data[4] === 0x37 || data[4] === 0x39) && data[5] === 0x61) return 'image/gif';
  if (startsWith(data, [0x52, 0x49, 0x46, 0x46]) && startsWith(data, [0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (data.length > 0 && isPlainText(data)) return 'text/plain';
  return undefined;
}

/** Valid UTF-8 without control characters other than tab, CR, LF and form feed. */
function isPlainText(data: Buffer): boolean {
  for (const byte of data) if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}
