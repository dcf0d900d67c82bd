"""Placeholder: the assembler is being written."""
class AssemblyError(Exception):
    pass
def assemble(source, filename="<input>"):
    raise NotImplementedError
