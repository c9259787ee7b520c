// Makes `require("pulumi-es-remote/...")` resolve inside this repository (the demo, the tests and the
// examples), the way it resolves from node_modules for users: the dynamic provider's hooks load the
// package by name (see provider/core/dynamic.ts).
const fs = require("fs");
const path = require("path");
const link = path.join(__dirname, "..", "node_modules", "pulumi-es-remote");
try {
    if (fs.readlinkSync(link) === "..") process.exit(0);
    fs.rmSync(link, { recursive: true, force: true });
} catch {
    // not there yet
}
fs.mkdirSync(path.dirname(link), { recursive: true });
fs.symlinkSync("..", link, "dir");
