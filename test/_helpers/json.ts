// The shapes of the CLI's --json outputs that the prefix and transaction suites read (one place,
// as cli/ prints them: activate/deactivate/rollback/sync, status, generations).

/** a package in any of the outputs */
export interface PkgJson {
  name: string;
  version: string;
  id: string;
}

/** `activate`, `deactivate`, `rollback`, `sync` --json */
export interface TxnJson {
  prefix: string;
  layout: string;
  generation: number;
  previousGeneration: number;
  activated: PkgJson[];
  deactivated: PkgJson[];
  noop: boolean;
  link: string;
}

/** `status --prefix` --json */
export interface StatusJson {
  prefix: string;
  layout: string;
  generation: number;
  packages: PkgJson[];
  transactionInProgress: boolean;
  transaction: string;
  interruptedReason?: string;
}

/** one element of `generations --prefix` --json */
export interface GenJson {
  generation: number;
  current: boolean;
  createdAt: string;
  command?: string;
  packages: PkgJson[];
}
