// Every scenario family of the suite, in the order the report lists them.
import { linReadFamily } from './lin-read.js';
import { memoryFamily } from './memory.js';
import { mixedFamily } from './mixed.js';
import { readFamily } from './read.js';
import { tokenFamily } from './token.js';
import type { Family } from './types.js';
import { writeFamily } from './write.js';

export const FAMILIES: Family[] = [readFamily, writeFamily, linReadFamily, tokenFamily, mixedFamily, memoryFamily];
