/**
 * The engine's floor: a program of `n` dynamic resources whose hooks do nothing, each with one
 * secret input like the real resources (`secretInput`, a property assignment in the program's
 * JavaScript), to set beside the same number of real resources.
 */
export const noopProgram = (n: number, secretInput: string): string => `
const pulumi = require("@pulumi/pulumi");
const provider = {
    async check(olds, news) { return { inputs: news }; },
    async diff() { return { changes: false }; },
    async create(inputs) { return { id: inputs.key, outs: inputs }; },
    async read(id, props) { return { id, props }; },
    async delete() {},
};
class Noop extends pulumi.dynamic.Resource {
    constructor(name) { super(provider, name, { key: name, ${secretInput} }, {}, "bench", "Noop"); }
}
for (let i = 0; i < ${n}; i++) new Noop("noop-" + i);
`;
