/** @type {import("next").NextConfig} */
// output: "standalone" would ship less
const nextConfig = {};

export default nextConfig;
