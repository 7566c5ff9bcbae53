#!/usr/bin/env bash
# How Sori chose its echo canceller (README, "Hands-free on speakers"): the same
# synthetic laptop echo through both candidates. Needs espeak-ng, sox and
# Debian's libwebrtc-audio-processing-dev (the C library); not part of the
# workspace or the test command.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
for r in 16000 48000; do
  espeak-ng -v ko -s 150 -w far.wav "안녕하세요. 고객님의 주문을 확인해 보겠습니다. 주문하신 상품은 내일 오후에 도착할 예정이에요. 배송 조회는 홈페이지에서 언제든지 하실 수 있습니다. 다른 궁금한 점이 있으시면 말씀해 주세요. 감사합니다. 좋은 하루 보내세요."
  sox far.wav -r $r -c 1 far$r.wav
  espeak-ng -v en -s 160 -w near.wav "Wait, I want to change the address for my order please."
  sox near.wav -r $r -c 1 near$r.wav
done
cargo run --release --quiet
