import { hash } from 'node:crypto';

/**
 * The sha256 of a text's UTF-8 bytes, as lowercase hex: raw payloads, token and session hashes.
 * One-shot (crypto.hash, Node >= 20.12), so no Hash object is built per call; equal to
 * createHash('sha256').update(text, 'utf8').digest('hex').
 */
export const sha256Hex = (text: string): string => hash('sha256', text, 'hex');
