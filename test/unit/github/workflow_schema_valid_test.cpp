// Workflows of the shapes real projects use (a matrix build, a reusable workflow and its caller,
// services and a deploy job with environment and concurrency) pass GitHub's schema with no problem.
#define BOOST_TEST_MODULE github_workflow_schema_valid
#include <algorithm>
#include <boost/test/unit_test.hpp>

#include "redundancy/github/workflow.hpp"

using namespace redundancy::github;

namespace {

workflow parse(const std::string& text) { return parse_workflow(text, "t.yml"); }

std::string all(const workflow& w) {
  std::string s;
  for (const auto& p : w.problems) s += p + "\n";
  return s;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_matrix_build_is_valid) {
  const auto w = parse(R"(name: CI
on:
  push:
    branches: [main]
    paths-ignore: ['docs/**']
  pull_request:
    types: [opened, synchronize]
permissions:
  contents: read
defaults:
  run:
    shell: bash
jobs:
  test:
    name: test (${{ matrix.os }}, node ${{ matrix.node }})
    runs-on: ${{ matrix.os }}
    timeout-minutes: 20
    strategy:
      fail-fast: false
      max-parallel: 4
      matrix:
        os: [ubuntu-latest, macos-latest]
        node: [18, 20]
        include:
          - os: ubuntu-latest
            node: 22
            experimental: true
        exclude:
          - os: macos-latest
            node: 18
    continue-on-error: ${{ matrix.experimental == true }}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-node@v4
        with:
          node-version: ${{ matrix.node }}
          cache: npm
      - id: deps
        run: npm ci
        env:
          CI: true
          TOKEN: ${{ secrets.NPM_TOKEN }}
      - run: npm test -- --shard=${{ strategy.job-index }}
        if: ${{ always() && steps.deps.outcome == 'success' }}
        working-directory: web
      - uses: actions/cache@v4
        with:
          path: ~/.npm
          key: npm-${{ runner.os }}-${{ hashFiles('**/package-lock.json') }}
)");
  BOOST_TEST(w.valid(), all(w));
}

BOOST_AUTO_TEST_CASE(a_reusable_workflow_call_and_a_callable_workflow_are_valid) {
  const auto caller = parse(R"(on:
  workflow_dispatch:
    inputs:
      level:
        type: choice
        options: [low, high]
        default: low
jobs:
  call:
    uses: octo/shared/.github/workflows/build.yml@v1
    with:
      level: ${{ inputs.level }}
    secrets: inherit
  after:
    needs: call
    if: needs.call.result == 'success'
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ needs.call.outputs.version }}
)");
  BOOST_TEST(caller.valid(), all(caller));
  const auto callee = parse(R"(on:
  workflow_call:
    inputs:
      level:
        type: string
        required: true
    outputs:
      version:
        value: ${{ jobs.build.outputs.version }}
    secrets:
      token:
        required: false
jobs:
  build:
    runs-on: ubuntu-latest
    outputs:
      version: ${{ steps.v.outputs.version }}
    steps:
      - id: v
        run: echo "version=1" >> "$GITHUB_OUTPUT"
)");
  BOOST_TEST(callee.valid(), all(callee));
}

BOOST_AUTO_TEST_CASE(services_and_a_deploy_job_are_valid) {
  const auto w = parse(R"(on:
  push:
    tags: ['v*']
  schedule:
    - cron: '0 3 * * 1'
concurrency:
  group: ${{ github.workflow }}-${{ github.ref }}
  cancel-in-progress: true
jobs:
  integration:
    runs-on: ubuntu-latest
    container: node:20
    services:
      postgres:
        image: postgres:16
        env:
          POSTGRES_PASSWORD: ${{ secrets.DB_PASSWORD }}
        ports: ['5432:5432']
        options: >-
          --health-cmd pg_isready
          --health-interval 10s
      redis: redis:7
    steps:
      - run: npm run test:integration
        env:
          DATABASE_URL: postgres://postgres@postgres:5432/test
  deploy:
    needs: [integration]
    runs-on: [self-hosted, linux]
    environment:
      name: production
      url: https://example.org
    concurrency:
      group: deploy-${{ github.ref_name }}
      cancel-in-progress: false
    permissions:
      id-token: write
      contents: read
    steps:
      - uses: actions/checkout@v4
      - name: Deploy
        run: ./deploy.sh "${{ vars.TARGET }}"
        shell: bash
        timeout-minutes: 10
)");
  BOOST_TEST(w.valid(), all(w));
}
