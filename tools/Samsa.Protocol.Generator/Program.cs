Console.WriteLine("generator: not yet written");
