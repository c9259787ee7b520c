/**
 * The integ-test-zip leaves out the `analysis-common` module, but the `.security` index that native
 * roles and users live in names three of its analysis components (`pattern_capture`, `unique`,
 * `uax_url_email`): without them the first PUT of a role or user fails with HTTP 400 "Unknown filter
 * type [pattern_capture] for [email]". This installs a small test-only plugin that provides them
 * from the Lucene classes the zip already ships (source: rig/shim/SecurityIndexAnalysisShim.java),
 * compiled with the distribution's own JDK against its own jars, once per cached distribution.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { repoRoot } from "./paths";

export const SHIM_NAME = "security-analysis-shim";

/** Installs the shim into `esHome/plugins` unless it is there (an atomic rename, so concurrent installers are safe). */
export function ensureSecurityIndexShim(esHome: string, version: string, javaHome: string, javaRelease: number): void {
    const target = path.join(esHome, "plugins", SHIM_NAME);
    if (fs.existsSync(path.join(target, "plugin-descriptor.properties"))) {
        return;
    }
    const tmp = fs.mkdtempSync(path.join(path.dirname(esHome), `.${SHIM_NAME}-`));
    try {
        const classes = path.join(tmp, "classes");
        const plugin = path.join(tmp, SHIM_NAME);
        fs.mkdirSync(classes);
        fs.mkdirSync(plugin);
        execFileSync(path.join(javaHome, "bin", "javac"), ["--release", String(javaRelease), "-cp", path.join(esHome, "lib", "*"), "-d", classes,
            path.join(repoRoot(), "rig", "shim", "SecurityIndexAnalysisShim.java")], { stdio: "pipe" });
        execFileSync(path.join(javaHome, "bin", "jar"), ["cf", path.join(plugin, `${SHIM_NAME}.jar`), "-C", classes, "."], { stdio: "pipe" });
        fs.writeFileSync(path.join(plugin, "plugin-descriptor.properties"), [
            "description=Test only: pattern_capture, unique and uax_url_email for the .security index (analysis-common is not in the integ-test-zip)",
            "version=1.0.0",
            `name=${SHIM_NAME}`,
            "classname=esremote.shim.SecurityIndexAnalysisShim",
            `java.version=${javaRelease}`,
            `elasticsearch.version=${version}`,
            "",
        ].join("\n"));
        execFileSync("chmod", ["-R", "a+rX", plugin]);
        try {
            fs.renameSync(plugin, target);
        } catch (e) {
            if (!fs.existsSync(path.join(target, "plugin-descriptor.properties"))) throw e;
        }
    } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
    }
}
