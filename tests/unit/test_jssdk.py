"""The JS-SDK signature, checked against the worked example in WeChat's JS-SDK documentation (附录1)."""

from bot.wechat.jssdk import page_config, signature

TICKET = "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg"


def test_the_documented_example_signs_to_the_documented_signature() -> None:
    signed = signature(TICKET, "Wm3WZYTPz0wzccnW", 1414587457, "http://mp.weixin.qq.com?params=value")
    assert signed == "0f9de62fce790f9a083d5c99e95740ceb90c27ed"


def test_the_fragment_is_not_signed_and_each_page_load_gets_its_own_nonce() -> None:
    url = "http://mp.weixin.qq.com?params=value"
    assert signature(TICKET, "n", 1, url + "#top") == signature(TICKET, "n", 1, url)
    first, second = page_config("wx1", TICKET, url, 1), page_config("wx1", TICKET, url, 1)
    assert first.nonce != second.nonce
    assert first.signature == signature(TICKET, first.nonce, 1, url)
