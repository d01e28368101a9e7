"""placeholder"""


def read_ofx(stream, encoding):
    raise NotImplementedError
