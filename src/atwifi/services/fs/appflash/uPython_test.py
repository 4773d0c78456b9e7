# Default python_script of the module (3:/uPython_test.py): a MicroPython smoke test.
print("uPython test")
for i in range(3):
    print("count", i)
