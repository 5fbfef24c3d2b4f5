// The one binding of the library that main.ts loads when a command runs, with the heap limit it
// sets then. Imported by name, not as the whole namespace of lib/index.ts, so the bundle keeps only
// what openStore reaches: a command compiles what it uses, not every export of the public API
// (SPEC.md §Start-up cost).

export { limitHeapGrowth, openStore } from '../lib/index.js';
