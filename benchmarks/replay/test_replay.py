#!/usr/bin/env python3
"""Checks of replay.py's pure parts, no builder needed (tests/run.sh runs
it everywhere; the replay itself needs root and buildah)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import replay  # noqa: E402

DOCKERFILE = """# header

FROM base AS deps
WORKDIR /app
COPY package.json yarn.lock ./
RUN --mount=type=cache,target=/root/.npm \\
    npm ci

FROM other AS build
COPY requirements.txt ./
COPY src/ ./src/
RUN --mount=type=bind,source=.env,target=/app/.env make
FROM scratch AS image
LABEL a=b
COPY --from=deps /app/node_modules/ ./node_modules/
COPY --from=build /out/bin /bin/app
"""


class StandIn(unittest.TestCase):
    def setUp(self):
        self.out = replay.stand_in(DOCKERFILE)
        self.lines = self.out.split("\n")

    def test_every_instruction_keeps_its_line(self):
        before = replay.instructions(DOCKERFILE)
        after = replay.instructions(self.out)
        self.assertEqual([b[:1] + b[2:3] for b in before], [a[:1] + a[2:3] for a in after])
        for b, a in zip(before, after):
            if b[2] != "RUN":
                self.assertEqual(a[3], b[3])

    def test_runs_keep_their_mounts_and_hash_their_inputs(self):
        deps = self.lines[5]
        self.assertTrue(deps.startswith("RUN --mount=type=cache,target=/root/.npm set -e;"), deps)
        self.assertIn("find /app/package.json /app/yarn.lock -type f", deps)
        self.assertIn("cp /.replay/state /app/node_modules/.replay-state", deps)
        build = self.lines[11]
        self.assertTrue(build.startswith("RUN --mount=type=bind,source=.env,target=/app/.env set -e;"), build)
        # no workdir: `./` is `/`, never hashed whole; the bind's target is
        self.assertIn("find /app/.env /requirements.txt /src -type f", build)
        self.assertIn("mkdir -p /out && cp /.replay/state /out/bin", build)

    def test_sources_are_the_context_paths(self):
        self.assertEqual(
            replay.sources(DOCKERFILE),
            ["package.json", "yarn.lock", "requirements.txt", "src/", ".env"],
        )


class History(unittest.TestCase):
    def test_a_file_that_became_a_folder_stays_a_folder(self):
        commits = [{"changed": ["a", "a/b", "c", "stowplan.kdl"]}, {"changed": ["d/e"]}]
        self.assertEqual(replay.context_paths(commits), {"a/b", "c", "d/e"})

    def test_sample_spreads_and_keeps_short_histories_whole(self):
        commits = [{"commit": str(i)} for i in range(10)]
        self.assertEqual([c["commit"] for c in replay.sample(commits, 5)], ["0", "2", "4", "6", "8"])
        self.assertEqual(len(replay.sample(commits, 200)), 10)

    def test_ignore_files_get_no_pattern(self):
        self.assertTrue(replay.content("x/.dockerignore", "abc", "1").startswith("#"))
        self.assertFalse(replay.content("x/y.go", "abc", "1").startswith("#"))


class Verdicts(unittest.TestCase):
    def test_buildah_output_is_read_per_stage_and_step(self):
        out = "\n".join([
            "[1/2] STEP 1/3: FROM base AS deps",
            "[1/2] STEP 2/3: WORKDIR /app",
            "--> Using cache 0123",
            "--> 0123",
            "[1/2] STEP 3/3: COPY a ./",
            "--> 4567",
            "[2/2] STEP 1/2: FROM scratch AS image",
            "[2/2] STEP 2/2: LABEL a=b",
            "--> Using cache 89ab",
            "[2/2] COMMIT localhost/x:t",
            "--> 89ab",
        ])
        self.assertEqual(
            replay.read_verdicts(out),
            {(0, 0): False, (0, 1): True, (0, 2): False, (1, 0): False, (1, 1): True},
        )

    def test_a_stage_built_where_a_copy_needs_it_nests(self):
        # buildah 1.28 builds `deps` when the image's COPY --from first needs
        # it; the copy's own verdict comes after the stage's.
        out = "\n".join([
            "[2/2] STEP 1/3: FROM base AS image",
            "[2/2] STEP 2/3: COPY --from=deps /a /a",
            "[1/2] STEP 1/2: FROM base AS deps",
            "[1/2] STEP 2/2: RUN x",
            "--> 0123",
            "--> Using cache 4567",
            "--> 4567",
            "[2/2] STEP 3/3: USER 1",
            "--> 89ab",
        ])
        self.assertEqual(
            replay.read_verdicts(out),
            {(1, 0): False, (1, 1): True, (0, 0): False, (0, 1): False, (1, 2): False},
        )

    def test_one_stage_has_no_prefix(self):
        out = "STEP 1/2: FROM base\nSTEP 2/2: RUN x\n--> Using cache 1\n--> 1\n"
        self.assertEqual(replay.read_verdicts(out), {(0, 0): False, (0, 1): True})

    def test_explain_lines_are_read(self):
        text = "changed a\n\nimage x: 1 of 2\n  stage s\n    L7   cached   FROM b\n    L9   rebuilt  COPY a ./   a changed\n"
        self.assertEqual(replay.read_explain(text), {7: True, 9: False})


if __name__ == "__main__":
    unittest.main()
