async def test_boot_and_at(module):
    assert await module.cmd("AT") == b"AT-S.OK\r\n"
