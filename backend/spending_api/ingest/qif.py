"""placeholder"""


def read_qif(stream, encoding, options):
    raise NotImplementedError
