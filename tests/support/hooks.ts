/** Mocha root hooks: whatever the suites started is stopped at the end, even after failures. */
import { stopPool } from "./pool";

export const mochaHooks = {
    async afterAll(this: Mocha.Context) {
        this.timeout(120000);
        await stopPool();
    },
};
