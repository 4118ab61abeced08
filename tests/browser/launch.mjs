// Debian's chromium, headless, as every browser test starts it: no sandbox (root in CI), no
// GPU, no connections of its own (the machines have no outside network), autoplay allowed.
import { chromium } from "playwright-core";

export const launch = () => chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required",
  ],
});
