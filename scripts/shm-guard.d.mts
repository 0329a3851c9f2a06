// Types of scripts/shm-guard.mjs, for the TypeScript test that exercises it.
export declare const SHM_DIR: string;
export declare function snapshot(): string[];
export declare function trackerReports(output: string): string[];
export declare function leakProblems(before: string[], after: string[], output: string): string[];
