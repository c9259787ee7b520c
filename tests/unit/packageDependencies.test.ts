/**
 * The package's runtime dependencies are exactly the packages its shipped code imports: every user
 * installs each of them, so one that nothing imports is weight for nothing, and one that is imported
 * but only a dev dependency breaks the installed package.
 */
import * as assert from "assert";
import * as fs from "fs";
import { builtinModules } from "module";
import * as path from "path";
import { repoRoot } from "../../rig/paths";

/** The shipped sources (package.json `files`: index, provider/, sdk/). */
function shippedSources(): string[] {
    const out = [path.join(repoRoot(), "index.ts")];
    const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
            const p = path.join(dir, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
        }
    };
    walk(path.join(repoRoot(), "provider"));
    walk(path.join(repoRoot(), "sdk"));
    return out;
}

/** Package names imported (import/export … from, bare import, require) by one source file. */
function importedPackages(source: string): string[] {
    const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    const specs = [
        ...code.matchAll(/\b(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']/g),
        ...code.matchAll(/\bimport\s+["']([^"']+)["']/g),
        ...code.matchAll(/\brequire\(\s*[`"']([^`"'$]+)/g),
    ].map((m) => m[1]);
    return specs
        .filter((s) => !s.startsWith(".") && !s.startsWith("node:") && !builtinModules.includes(s.split("/")[0]))
        .map((s) => (s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]))
        .filter((name) => name !== "pulumi-es-remote"); // the hooks load the package itself by name
}

describe("package.json dependencies", function () {
    it("are exactly the packages the shipped code (index, provider/, sdk/) imports", function () {
        const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot(), "package.json"), "utf8"));
        const imported = [...new Set(shippedSources().flatMap((f) => importedPackages(fs.readFileSync(f, "utf8"))))].sort();
        assert.deepStrictEqual(Object.keys(pkg.dependencies).sort(), imported,
            "move packages nothing in index/provider/sdk imports to devDependencies (or an example's own package.json)");
        assert.deepStrictEqual(pkg.peerDependencies, undefined, "@pulumi/pulumi is a dependency, as in Pulumi's own packages (README: Supported versions)");
    });
});
