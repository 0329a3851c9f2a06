export * from './python.js';
export * from './processes.js';
export * from './shm-dir.js';
export * from './readable-copy.js';
export * from './wait.js';
