#!/usr/bin/env bash
# npm run lint:template (and .ci/run): packages the ci stage (params/ci.yml) offline, without AWS credentials,
# and runs AWS's cfn-lint on the template CloudFormation would get. .cfnlintrc.yaml names the template and
# each finding accepted, with its reason; any other finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cfn-lint >/dev/null; then
  echo "lint:template needs AWS's cfn-lint (Python), which is not on PATH: pip install 'cfn-lint==1.51.0'" \
    "(or pipx install 'cfn-lint==1.51.0'), then run it again." >&2
  exit 2
fi
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE SLS_TELEMETRY_DISABLED=1 \
  npx serverless package --stage ci
echo "cfn-lint $(cfn-lint --version | sed 's/^cfn-lint //') on .serverless/cloudformation-template-update-stack.json"
cfn-lint
echo "cfn-lint: no finding beyond those accepted in .cfnlintrc.yaml"
