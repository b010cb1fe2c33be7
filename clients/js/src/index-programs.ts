/** The generated programs as namespaces, for the hand-written modules. */
export * as market from './generated/market';
export * as staking from './generated/staking';
