"""placeholder"""


def read_camt(stream):
    raise NotImplementedError
