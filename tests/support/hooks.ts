/**
 * Mocha root hooks: whatever the suites started is stopped at the end, even after failures; and
 * each test starts with the provider's per-process memory empty (cluster facts, clusters found
 * unreachable), as each `pulumi` command's provider process does. Without it a UUID read for a
 * cluster an earlier test stopped could be taken for the cluster a later test started on the same
 * port, and a cluster an earlier test halted would be failed at once for 30 s.
 */
import { clearFacts } from "../../provider/core/facts";
import { stopPool } from "./pool";

export const mochaHooks = {
    beforeEach() {
        clearFacts();
    },
    async afterAll(this: Mocha.Context) {
        this.timeout(120000);
        await stopPool();
    },
};
