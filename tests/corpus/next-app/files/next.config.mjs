/** @type {import('next').NextConfig} */
// create-next-app's config, with standalone output: `next build` traces the
// server's files into .next/standalone/, which the node preset's
// mode="standalone" ships (spec/presets.md).
const nextConfig = {
  output: "standalone",
};

export default nextConfig;
